"""One pure module per teaching topic; no streamlit, no argparse."""
