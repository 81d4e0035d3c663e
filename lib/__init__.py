"""Shared code for the chapter scripts: data, flags, plots, outputs, training plumbing.

Importing `lib` imports TensorFlow and looks up its devices with the process's
standard error held back in a temporary file: TensorFlow's C++ start-up notices
(oneDNN, missing CUDA drivers, and on a machine without a GPU a "failed call to
cuInit" error) are written there before any logging setting applies, so the
first thing a run prints is its own line saying where it runs. The notices are
shown after all if the import fails; a user who sets TF_CPP_MIN_LOG_LEVEL gets
TensorFlow's own behaviour instead.
"""
import os
import sys
import tempfile


def _import_tensorflow_with_stderr_held_back():
    sys.stderr.flush()
    standard_error = os.dup(2)
    with tempfile.TemporaryFile() as held_back:
        os.dup2(held_back.fileno(), 2)
        try:
            import tensorflow as tf
            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(standard_error, 2)
            held_back.seek(0)
            sys.stderr.write(held_back.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(standard_error, 2)
            os.close(standard_error)


if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"  # afterwards: TensorFlow's warnings and errors only
    _import_tensorflow_with_stderr_held_back()
