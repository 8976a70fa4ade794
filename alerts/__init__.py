"""Alert rules: which stored articles a rule matches, and the digest message it sends. Pure."""
