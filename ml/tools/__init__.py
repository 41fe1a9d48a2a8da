"""Commands run by hand: measurements and one-off generators, never imported by the app."""
