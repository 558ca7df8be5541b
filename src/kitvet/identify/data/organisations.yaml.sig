{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "528a4df94a271f2d",
  "kitvet_signature": "1",
  "sha256": "7c72b8508d21f1aa233a87ae6779e88fec375cb2d0ff71972658bd209cb406cc",
  "signature": "TD1V/2Tvx64d3rL/KgYtBB63+bGWVlRt+ajHW9J8YaXW+twzK5kSF0mkR1y0aottQj7sRqFxy4IKhUp74BdtDA=="
}
