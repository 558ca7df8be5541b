{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "528a4df94a271f2d",
  "kitvet_signature": "1",
  "sha256": "f696b4884d46f11eca0e1e51f2c6713159ae87d29f73cc38bc7e9ad364289e56",
  "signature": "mdeoXidiUxXG7d64X6IcqfhQZZFazLTmAtkdgvKa4lq+VCpOdJJudbNRYy1BaZmsGxR9OZuTEAUztVYrgliKDA=="
}
