"""The support-profile editor: per board (or for all boards) a grid of schools × support areas,
with each school's profile link and adoption date, and the same grid as a spreadsheet that a
board fills in and uploads.

A save, from the grid or from a file's preview, is all or nothing: one transaction, refused as
a whole when a school it changes was changed by someone else since the page (or the preview)
was made, naming what they changed. The history gets one row per changed cell (history.py).

rows.py holds what one school's row says and the rules for its cells; grid.py reads a posted
grid and saves it; spreadsheet.py writes the grid as a file and upload.py reads a filled-in one
back; view.py is the admin view over them.
"""
