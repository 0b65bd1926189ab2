"""Margin-based bitext mining (Artetxe & Schwenk 2019), as XTREME and LASER run it for BUCC."""
