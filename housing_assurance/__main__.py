import sys

from housing_assurance.cli import main

sys.exit(main())
