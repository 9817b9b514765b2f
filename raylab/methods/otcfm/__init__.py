"""OT-CFM as proximal operators (arXiv: Flow Matching from the Viewpoint of Proximal Operators)."""
