"""cnnviz: start with `streamlit run app.py`.

Streamlit runs this file as the app's script (as __main__) on every rerun: the page list,
the shared sidebar picker and the page config live in cnnviz.ui.main(), so tests run
exactly the same app. Before that, `streamlit run` imports it once as a module to find
`app`, the server, whose start-up imports torch in the background (cnnviz.deploy.warmup).
"""
import streamlit as st

if __name__ == "__main__":
    from cnnviz.deploy.warmup import FIRST_PAGE, ensure_imported

    ensure_imported(FIRST_PAGE)  # under one lock: no two first runs import at once
    from cnnviz import ui

    ui.main()
else:
    from cnnviz.deploy.warmup import warm_start

    app = st.App(__file__, lifespan=warm_start)
