"""The domain: models per bank, their versions and cache, and the ranking; no HTTP."""
