"""Execute the chapters in notebooks/ and store their outputs and timings; --only NN, --profile (see --help).

The code is lewm_mini/authoring/execute.py (installed with the package: pip install -e .).
"""

import sys

from lewm_mini.authoring.execute import main

if __name__ == "__main__":
    sys.exit(main())
