{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "528a4df94a271f2d",
  "kitvet_signature": "1",
  "sha256": "02512e49ec7cfd9547c09e70ac7ceb9004ffb2781f9c6ca1055adbaf5360611e",
  "signature": "NFHclJphDARGVOlbbAHEcTIm4K30Pw3w+lpFPkDS30u9QYzyHPg9PabiXYk4mVxHacmb5i04C2EtELdTkFMNAQ=="
}
