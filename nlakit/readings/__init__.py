"""Readings built on a trained NLA: explain, the suite, the neuron dictionary, directions, teacher rankings, reports. Import the core and the stages."""
