"""Reading a project's code: the file walk, Python sources, notebooks, and the facts each yields."""
