"""Bundled demo data (a CLINC150 subset; see README.md here for source and licence)."""
