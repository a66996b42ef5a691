"""The web page: `python app.py [--host 127.0.0.1] [--port 7860] [--data-dir DIR]`, the same as `qa serve`."""

import sys

from qa.cli import main

if __name__ == "__main__":
    sys.argv[1:1] = ["serve"]
    main()
