"""Readers: files and hub datasets in, plain records out. Every reader fails with a one-line ``RxError``."""
