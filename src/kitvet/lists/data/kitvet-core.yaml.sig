{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "528a4df94a271f2d",
  "kitvet_signature": "1",
  "sha256": "9f47686a5dc84608a4f2f4fcb9413d00ca39c9ec9db67240a42fdbac7da7d5f5",
  "signature": "2MNAeUPvG3e3VxRLd89JYJv2eE/88/5pDJq7D7apiN3bYHcLndsHD3bREAHXw5OpShzhrvh/Y5C7HxmraJmABw=="
}
