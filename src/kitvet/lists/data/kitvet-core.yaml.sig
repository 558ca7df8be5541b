{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "155229194309568e",
  "kitvet_signature": "1",
  "sha256": "bca6de828d5e80ee20fbff6eb300a199c1e4cc9f5b695a22b3c4b204a413b955",
  "signature": "yLSHMAsOYjlykIGnmGrD1N+p0UzbPWOTZA6E48Y7htak2F47ZLN7JCyND84Asxgjyorq+9o7yC5qWfo5OHplAA=="
}
