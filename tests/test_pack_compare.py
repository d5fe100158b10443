"""The pack's "How we compare" section: in the whole-landlord pack each measure's figures are compare.py's
(so the `sector` and `tsm` commands'), worded as the app's page words them, with the regulator's
attribution; a pack without the regulator's files still builds and says why; a region or team pack leaves
the section out and says where it is (TSM figures are the whole landlord's).

Packs are made from the suite's demo landlord (conftest), once for the module.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from conftest import DEMO_AS_OF, pack_page_body, pdf_page_texts

from housing_assurance import compare, pack, routes, sector, tsm
from housing_assurance.pack import compare_section
from housing_assurance.scope import WHOLE_LANDLORD, Scope
from housing_assurance.words import number, percentile_text, ratio_text, value_text

pytestmark = pytest.mark.slow  # packs built for the module

SECTION_START = "How we compare\nWhole landlord"
LEFT_OUT = ("How we compare is in the whole-landlord pack only: Tenant Satisfaction Measures are returned to the "
            "regulator for the whole landlord, so they are not a region's or a team's figures.")


def make_pack(extract, renderer, folder: Path, scope: Scope = WHOLE_LANDLORD, tsm_folder: Path | None = None) -> Path:
    """A pack written with the regulator's files where the product looks for them, or in `tsm_folder`."""
    with pytest.MonkeyPatch.context() as mp:
        if tsm_folder is None:
            mp.delenv("HOUSING_ASSURANCE_TSM", raising=False)
        else:
            mp.setenv("HOUSING_ASSURANCE_TSM", str(tsm_folder))
        return pack.write_pack(extract, DEMO_AS_OF, scope, folder / "pack.pdf", renderer=renderer)


@pytest.fixture(scope="module")
def landlord_pdf(demo_landlord_pack) -> Path:
    """The whole-landlord pack with the regulator's files where the product looks for them: the `report`
    command's, made once for the run and read by test_pack too (conftest.demo_landlord_pack)."""
    return demo_landlord_pack[0]


@pytest.fixture(scope="module")
def empty_tsm(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("empty-tsm")


@pytest.fixture(scope="module")
def no_tsm_pdf(demo_extract, renderer, tmp_path_factory, empty_tsm) -> Path:
    return make_pack(demo_extract, renderer, tmp_path_factory.mktemp("no-tsm"), tsm_folder=empty_tsm)


@pytest.fixture(scope="module")
def region_pdf(demo_extract, renderer, tmp_path_factory) -> Path:
    region = demo_extract.sql("select min(region) as region from properties")["region"][0]
    return make_pack(demo_extract, renderer, tmp_path_factory.mktemp("region"), Scope(region=region))


@pytest.fixture(scope="module")
def comparison(demo_extract) -> compare.HowWeCompare:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("HOUSING_ASSURANCE_TSM", raising=False)
        return compare.how_we_compare(demo_extract)


@functools.cache
def pdf_pages(path: Path) -> tuple[str, ...]:
    """Each page's text below its header and above its footer."""
    return tuple(pack_page_body(text) for text in pdf_page_texts(path))


def words(text: str) -> str:
    return " ".join(text.split())


def squeezed(text: str) -> str:
    """Text without any spacing: a line may break a path after a hyphen, and pypdf reads "region's" apart."""
    return "".join(text.split())


def compare_pages(path: Path) -> list[int]:
    """The numbers (from 0) of the pages of the section: from its heading to the Exceptions."""
    pages = pdf_pages(path)
    first = next(i for i, p in enumerate(pages) if p.startswith(SECTION_START))
    end = next(i for i, p in enumerate(pages) if p.startswith("Exceptions\nWeek ending"))
    return list(range(first, end))


def section_text(path: Path) -> str:
    return words("\n".join(pdf_pages(path)[i] for i in compare_pages(path)))


def test_the_section_is_listed_and_sits_after_the_domains_before_the_exceptions(landlord_pdf):
    pages = pdf_pages(landlord_pdf)
    contents = words(pages[0])
    assert contents.index(routes.sections()[-1][1]) < contents.index("How we compare") < contents.index("Exceptions")
    section = compare_pages(landlord_pdf)
    last_domain = max(i for i, p in enumerate(pages) if p.startswith(f"{routes.sections()[-1][1]}\nWeek ending"))
    assert section[0] > last_domain
    assert re.search(rf"How we compare {section[0] + 1}\n", pages[0])  # the contents' page number
    # A block a measure, never split, two to a page (docs/pdf-pack.md): the intro and the first measure share
    # a page, then the rest two by two.
    assert len(section) <= 1 + len(sector.MEASURES) // 2


def test_each_measure_is_compare_pys_worded_as_the_page_words_it(landlord_pdf, comparison, demo_extract):
    text = section_text(landlord_pdf)
    assert words(compare.INTRO) in text
    assert words(comparison.size_text) in text
    for note in comparison.notes:
        assert words(note) in text
    assert sector.ATTRIBUTION in text
    titles = [m.title for m in comparison.measures]
    assert titles == [m.title for m in sector.MEASURES]
    starts = [text.index(t) for t in titles]
    assert starts == sorted(starts)
    for m, begin, end in zip(comparison.measures, starts, [*starts[1:], len(text)], strict=True):
        block, k = text[begin:end], tsm.MEASURES[m.key]
        assert sector.ATTRIBUTION in block  # on every page that shows the sector's figures
        for p in m.placings:
            row = [p.period, value_text(k, p.value), ratio_text(k, p.numerator, p.denominator), p.compared_with]
            if p.sector is not None:
                q = p.sector
                row += [value_text(k, v) for v in (q.lower_quartile, q.median, q.upper_quartile)]
                row += [number(q.landlords), percentile_text(p.position), percentile_text(p.peer_position)]
            assert " ".join(row) in block, (m.key, p.period)
        ytd = m.placings[0]
        assert ytd.year_to_date and not ytd.like_for_like and words(ytd.not_a_ranking) in block
        assert words(m.peers_text) in block


def test_the_figures_are_the_sector_and_tsm_commands(landlord_pdf, comparison, demo_extract):
    """The median and our value printed for a same-year measure are those `sector --year 2024-25` and
    `tsm --year 2024-25` work out."""
    sector_2024 = sector.sector_figures(sector.load_year("2024-25", sector.tsm_folder()))
    ours_2024 = tsm.our_figures(demo_extract, "2024-25")
    text = section_text(landlord_pdf)
    for m in comparison.measures:
        same = next(p for p in m.placings if p.like_for_like)
        k = tsm.MEASURES[m.key]
        assert same.sector == sector_2024[m.key] and same.value == ours_2024.figures[m.key].value
        row = " ".join([same.period, value_text(k, ours_2024.figures[m.key].value)])
        assert row in text and value_text(k, sector_2024[m.key].median) in text


def test_without_the_regulators_files_the_pack_says_why(no_tsm_pdf, empty_tsm, demo_extract):
    with pytest.raises(sector.SectorError) as caught:
        compare.how_we_compare(demo_extract, empty_tsm)
    text = section_text(no_tsm_pdf)
    assert squeezed(compare.no_sector_text(caught.value)) in squeezed(text)
    assert sector.ATTRIBUTION not in text and not any(m.title in text for m in sector.MEASURES)
    assert len(compare_pages(no_tsm_pdf)) == 1


def test_a_region_pack_leaves_the_section_out_and_says_so(region_pdf):
    pages = pdf_pages(region_pdf)
    assert squeezed(LEFT_OUT) in squeezed(pages[0])
    everything = words("\n".join(pages))
    assert not any(p.startswith(SECTION_START) for p in pages)
    assert sector.ATTRIBUTION not in everything and "Lower quartile" not in everything


def test_when_the_extract_gives_no_year_the_section_says_so(demo_extract, renderer, monkeypatch):
    from housing_assurance.pack import compare_section

    problem = tsm.TsmError("the extract's manifest gives no valid extracted_at, so no week is known to be complete")

    def no_year(*args, **kwargs):
        raise problem

    monkeypatch.setattr(compare, "how_we_compare", no_year)
    section = compare_section.finish(compare_section.start(demo_extract, WHOLE_LANDLORD, renderer), renderer)
    assert section.problem == compare.no_figures_text(problem) and not section.measures


def test_the_packs_charts_are_the_boxes_without_a_dot_for_each_landlord(demo_extract, renderer):
    """On paper a thousand grey dots a chart are a smear and a thousand shapes to print: the
    pack's charts keep the quartile boxes, medians and our diamonds (the app's page keeps the dots)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("HOUSING_ASSURANCE_TSM", raising=False)
        section = compare_section.finish(compare_section.start(demo_extract, WHOLE_LANDLORD, renderer), renderer)
    assert len(section.measures) == len(sector.MEASURES)
    for m in section.measures:
        svg = renderer.drawn(m.chart)
        assert "Middle half of landlords" in svg and 0 < svg.count('class="point"') < 20, m.title
