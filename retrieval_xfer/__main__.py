"""``python -m retrieval_xfer ...`` runs the ``rx`` command line (what ``torchrun -m retrieval_xfer train ...`` and
``accelerate launch -m retrieval_xfer train ...`` start on every process)."""

from retrieval_xfer.cli import main

if __name__ == "__main__":
    main(prog_name="rx")
