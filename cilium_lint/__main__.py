from cilium_lint.cli import main

raise SystemExit(main())
