{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "155229194309568e",
  "kitvet_signature": "1",
  "sha256": "b5fc1d0df366ca1456dfb8cd911b45b1538b226d692faeb6d805595234b027d0",
  "signature": "nCWW2etshaVqL36UlRpi1MC5bOnxiBtKIq+1KnEhKbUSzpowLkYYVDfLsY2ABmqwVMpZdSoIIE9S60EtQQ4DAg=="
}
