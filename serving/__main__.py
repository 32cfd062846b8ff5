from serving.cluster import main

raise SystemExit(main())
