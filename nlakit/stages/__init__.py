"""The pipeline stages: extract -> teach -> SFT (train-ar, train-av) -> RL -> evaluate, and export. Import only the core."""
