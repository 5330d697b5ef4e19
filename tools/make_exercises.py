"""Generate exercises/ and every .ipynb; --check, --fix-sources, --new-exercise NN name (see --help).

The code is lewm_mini/authoring/exercises.py (installed with the package: pip install -e .).
"""

import sys

from lewm_mini.authoring.exercises import main

if __name__ == "__main__":
    sys.exit(main())
