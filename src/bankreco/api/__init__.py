"""Everything HTTP: routes, request and response schemas, error bodies, batch rendering."""
