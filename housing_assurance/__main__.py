import gc
import sys

from housing_assurance.cli import main

code = main()
# The process ends here: without this, Python's last cycle collection walks every object left (a tenth of a
# second after a pack) only for the process to drop them all. Exit handlers still run.
gc.freeze()
sys.exit(code)
