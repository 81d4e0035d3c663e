"""Shared code for the chapter scripts: data, flags, plots, outputs, training plumbing.

Importing `lib` quiets TensorFlow's C++ start-up chatter (info lines about CPU
instructions and missing CUDA drivers) unless the user has set the level.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
