"""The core a user imports: the NLA, its AV and AR, the metric, the sidecar, prompts, hooks, models, inference. Imports no stage, reading or app module."""
