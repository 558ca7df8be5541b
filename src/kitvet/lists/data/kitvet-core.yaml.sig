{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "155229194309568e",
  "kitvet_signature": "1",
  "sha256": "95df5b5baaab0ba2c6d85ea8b37781beba48827a3132692c0fcd91b579dd6c5c",
  "signature": "RkMOWbKT6qq0y/IA9v82uW9JbfFpJ4sqCj7Jyq43Uq29kH4QJpSu6ehW9KCTJkgJYaoU8CWhwYuLv0RM53PlDw=="
}
