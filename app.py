"""cnnviz: start with `streamlit run app.py`.

Streamlit runs this file as the app's script (as __main__) on every rerun: the page list,
the shared sidebar picker and the page config live in cnnviz.ui.main(), so tests run
exactly the same app. Before that, `streamlit run` imports it once as a module to find
`app`, the server, whose start-up imports torch and computes the pages' first views in the
background (cnnviz.ui.prewarm.warm_server).
"""
import streamlit as st

from cnnviz.deploy.imports import import_once, in_background

if __name__ == "__main__":
    import_once(("cnnviz.ui",))  # under one lock: no two first runs import at once
    from cnnviz import ui

    ui.main()
else:
    def warm_server() -> None:
        import_once(("cnnviz.ui",))
        from cnnviz.ui.prewarm import warm_server
        warm_server()

    lifespan = in_background(warm_server, "cnnviz-warm-start")
    app = st.App(__file__, lifespan=lifespan)
