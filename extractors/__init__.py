"""Pure extraction stages: bytes + URL in, typed records out. Nothing here touches the network or disk."""
