from genai_demo.cli import main

raise SystemExit(main())
