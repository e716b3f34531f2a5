"""Run insights: the self-contained HTML report of runs (``samepack runs report``), its live
server, and the HTML form of a reproduction report.

``model`` turns run records into the report's data (pure), ``render`` puts data, plotly.js and
the page script into one HTML file (pure), ``build`` does the reading and writing around them.
"""
