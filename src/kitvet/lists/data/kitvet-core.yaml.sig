{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "528a4df94a271f2d",
  "kitvet_signature": "1",
  "sha256": "840f291a98b02f49825b1e3f769a83def9207a22728e846c4d2c9f8be5d6af5a",
  "signature": "tK82svLSg5+0cHRIv8Hk2H0XGO1oY77OhmwgoN+DBjyQZjcjgm4u41HN9E6f4T/7pul2vDx0m/9CE00ggWLbCg=="
}
