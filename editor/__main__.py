import sys

from editor.launch import main

sys.exit(main())
