{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "528a4df94a271f2d",
  "kitvet_signature": "1",
  "sha256": "75124ee12feef547a6b82ea10e06cb537afac56e2136b1f0e87cce738c38cede",
  "signature": "RmojnP5xZXx8euw2VnwONx8ZgUbBOp628ro2FF2TIyWq4Ze3LFmaqssZadrGW0IJRtEPpyf5+ZGlXtYaU3OtCg=="
}
