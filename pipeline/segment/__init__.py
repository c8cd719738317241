"""Segmentation: a PDF report becomes a Document of tables and narrative sections.

One module per step: `pdf` (the only PyMuPDF reader: text lines with character positions and
ruling segments), `grid` (ruled grids from the segments), `catalog` (table kinds by title, code
and header), `tables` (grids to typed tables: header paths, cell roles, split codes joined) and
`assemble` (pages walked top to bottom into captions, tables, notes and narrative sections).
"""

from pipeline.segment.assemble import segment

__all__ = ["segment"]
