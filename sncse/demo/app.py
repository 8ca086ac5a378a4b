"""The demo page: :class:`~sncse.demo.compare.SoftNegativeDemo` wired to Gradio components.

Everything the page computes is in :mod:`.compare`; this module only lays out the components and
maps :class:`~sncse.demo.compare.DemoView` onto them. The page opens with the first example compared. The page listens on 127.0.0.1 unless told
otherwise and never opens a share link. Its one event is also an API endpoint, ``/compare``
(``gradio_client.Client(url).predict(sentence, paraphrase, api_name="/compare")``).
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import SncseError
from .compare import SoftNegativeDemo

log = logging.getLogger(__name__)

EXTRA_HINT = "pip install 'sncse[demo]'"
TITLE = "sncse: what soft negatives change"
API_NAME = "compare"
EXAMPLES = [
    ["A man is playing a guitar.", "Someone is playing the guitar."],
    ["Tom and Jerry became good friends.", "Tom and Jerry got along well."],
    ["The company will not raise its prices this year.", "Prices at the company stay the same this year."],
]
INTRO = """\
Type a sentence. The negator writes its **soft negative** (SNCSE's rules: *faithful* as published,
*improved* with the extra rules), and each model scores the sentence against it and against a paraphrase
you type. A sentence and its negation share almost every word, yet mean the opposite: an encoder that
reads words scores them alike; SNCSE trains the soft negative below the paraphrase.
"""


def _gradio() -> Any:
    try:
        import gradio
    except ImportError:
        raise SncseError(f"the demo page needs gradio, which is not installed: {EXTRA_HINT}") from None
    return gradio


def _frame(table: tuple[list[str], list[list[Any]]]) -> Any:
    import pandas as pd  # a dependency of gradio

    headers, rows = table
    return pd.DataFrame(rows, columns=headers)


def build_app(demo: SoftNegativeDemo) -> Any:
    """The Gradio ``Blocks`` of the page (not launched)."""
    gr = _gradio()
    models = ", ".join(f"`{name}`" for name in demo.names)
    corpus = ", ".join(f"`{name}`" for name in demo.corpus)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as page:
        gr.Markdown(f"# {TITLE}\n\n{INTRO}\n**Models:** {models}" + (f"  \n**Corpus searched with:** {corpus}"
                                                                   if corpus else ""), elem_id="intro")
        with gr.Row():
            sentence = gr.Textbox(EXAMPLES[0][0], label="Sentence", lines=2, elem_id="sentence")
            paraphrase = gr.Textbox(EXAMPLES[0][1], label="Paraphrase (optional)", lines=2, elem_id="paraphrase")
        button = gr.Button("Compare", variant="primary")
        message = gr.Markdown(elem_id="message")
        with gr.Row():
            faithful = gr.Textbox(label="Soft negative (faithful)", interactive=False, elem_id="faithful")
            improved = gr.Textbox(label="Soft negative (improved)", interactive=False, elem_id="improved")
        scores = gr.Dataframe(headers=["pair", "other sentence", *demo.names], label="Cosine similarity per model",
                              interactive=False, wrap=True, elem_id="scores")
        neighbours = gr.Dataframe(headers=["rank", *demo.corpus], label=f"Nearest corpus lines (top {demo.top_k})",
                                  interactive=False, wrap=True, visible=bool(demo.corpus), elem_id="neighbours")
        gr.Examples(EXAMPLES, inputs=[sentence, paraphrase])

        def respond(sentence_text: str, paraphrase_text: str) -> tuple[Any, ...]:
            view = demo.respond(sentence_text, paraphrase_text)
            return (view.negations.get("faithful", ""), view.negations.get("improved", ""),
                    _frame(view.scores), _frame(view.neighbours), view.message)

        outputs = [faithful, improved, scores, neighbours, message]
        button.click(respond, [sentence, paraphrase], outputs, api_name=API_NAME)
        sentence.submit(respond, [sentence, paraphrase], outputs, api_visibility="private")
        page.load(respond, [sentence, paraphrase], outputs, api_visibility="private")  # the first example, shown
    return page


def launch(demo: SoftNegativeDemo, host: str = "127.0.0.1", port: int | None = 7860, block: bool = True,
           quiet: bool = False) -> Any:
    """Serve the page on ``host:port`` (no share link). ``block=False`` returns the launched ``Blocks``
    at once (``page.local_url``; ``page.close()`` stops it)."""
    page = build_app(demo)
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("the demo listens on %s: anyone who can reach this address can use it", host)
    page.launch(server_name=host, server_port=port, share=False, prevent_thread_lock=not block, quiet=quiet,
                show_error=False, ssr_mode=False, inbrowser=False, theme=_gradio().themes.Default())
    return page
