"""The app: the command line, the training presets' pipeline, the demo tour and the explorer (serve/). Imports anything below it."""
