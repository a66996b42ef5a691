"""The web page: `python app.py [--host 127.0.0.1] [--port 7860] [--data-dir DIR]` (same as `qa serve`).

The page itself lives in qa/serve.py, so that an installed `qa` can serve it too.
"""

from qa.serve import main

if __name__ == "__main__":
    main()
