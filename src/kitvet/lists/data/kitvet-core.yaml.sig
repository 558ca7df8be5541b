{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "155229194309568e",
  "kitvet_signature": "1",
  "sha256": "f882b79f26512acc7189643f2a364bb1f158cd322ad90c590418108731347257",
  "signature": "QAf6QGjaaHTKlBafSolHiq7W0K7W0IASd+AjHWRTVOaBpzQTOxqhWmeJ88YjDrg0czb25OBMEoryXMtqiioiCQ=="
}
