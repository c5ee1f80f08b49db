"""`zdlint server`: the language server (LSP over stdio, with pygls).

Diagnostics when a document is opened, changed or saved; code actions that apply
`zdlint fix` to the buffer and that write a suppression for one finding; a hover over a
finding that explains its rule. The checking itself is zdlint.editor's.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from zdlint import __version__
from zdlint.editor import Workspace, hover_text, suppression
from zdlint.findings import Finding, Severity

SOURCE = "zdlint"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
FIX_TITLE = "Fix with zdlint fix"


class ZdlintServer(LanguageServer):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__("zdlint", __version__)
        self.checker = workspace
        # The findings last published for each document, with the text they are about
        self.findings: dict[str, tuple[str, list[Finding]]] = {}

    def lint(self, uri: str) -> None:
        path = _path(uri)
        if path is None:
            return
        document = self.workspace.get_text_document(uri)
        text = document.source
        report = self.checker.check(path, text)
        self.findings[uri] = (text, list(report.findings))
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=document.version,
                diagnostics=[diagnostic(f, text) for f in report.findings],
            )
        )


def _path(uri: str) -> Path | None:
    fs_path = to_fs_path(uri)
    return Path(fs_path) if fs_path else None


def position(text: str, line: int, column: int) -> types.Position:
    """1-based line and character column to an LSP position (UTF-16 code units)."""
    lines = text.split("\n")
    current = lines[line - 1] if 0 < line <= len(lines) else ""
    prefix = current[: max(column - 1, 0)]
    return types.Position(line=line - 1, character=len(prefix.encode("utf-16-le")) // 2)


def diagnostic(finding: Finding, text: str) -> types.Diagnostic:
    span = finding.span
    message = finding.message if not finding.help else f"{finding.message}\n{finding.help}"
    return types.Diagnostic(
        range=types.Range(
            start=position(text, span.line, span.column),
            end=position(text, span.end_line, span.end_column),
        ),
        message=message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        source=SOURCE,
        data={"rule": finding.rule, "fixable": finding.fixable},
    )


def _overlaps(finding: Finding, text: str, wanted: types.Range) -> bool:
    span = finding.span
    start = position(text, span.line, span.column)
    end = position(text, span.end_line, span.end_column)
    before = (end.line, end.character) < (wanted.start.line, wanted.start.character)
    after = (start.line, start.character) > (wanted.end.line, wanted.end.character)
    return not (before or after)


def _whole(text: str) -> types.Range:
    last = text.count("\n") + 1
    end_column = len(text) - (text.rfind("\n") + 1) + 1
    return types.Range(start=types.Position(0, 0), end=position(text, last, end_column))


def build(workspace: Workspace) -> ZdlintServer:
    server = ZdlintServer(workspace)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ZdlintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ZdlintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ZdlintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.checker.forget()  # the files before the others may have changed on disk
        ls.lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ZdlintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.findings.pop(uri, None)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def files_changed(ls: ZdlintServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.checker.forget()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(
        ls: ZdlintServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        path = _path(uri)
        text, findings = ls.findings.get(uri, ("", []))
        if path is None or text != ls.workspace.get_text_document(uri).source:
            return None  # the findings are about an older text
        here = [f for f in findings if _overlaps(f, text, params.range)]
        actions = []
        if any(f.fixable for f in here):
            fixed = ls.checker.fixed_text(path, text)
            if fixed is not None:
                edit = types.TextEdit(range=_whole(text), new_text=fixed)
                actions.append(
                    types.CodeAction(
                        title=FIX_TITLE,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic(f, text) for f in here if f.fixable],
                        edit=types.WorkspaceEdit(changes={uri: [edit]}),
                        is_preferred=True,
                    )
                )
        for finding in here:
            insertion = suppression(finding, text)
            if insertion is None:
                continue
            at = types.Position(line=insertion.line, character=0)
            edit = types.TextEdit(range=types.Range(start=at, end=at), new_text=insertion.text)
            actions.append(
                types.CodeAction(
                    title=f"Suppress {finding.code} here",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic(finding, text)],
                    edit=types.WorkspaceEdit(changes={uri: [edit]}),
                )
            )
        return actions

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: ZdlintServer, params: types.HoverParams) -> types.Hover | None:
        text, findings = ls.findings.get(params.text_document.uri, ("", []))
        point = types.Range(start=params.position, end=params.position)
        parts = []
        for finding in findings:
            rule = ls.checker.rule(finding.code)
            if rule is not None and _overlaps(finding, text, point):
                parts.append(hover_text(rule))
        if not parts:
            return None
        return types.Hover(
            contents=types.MarkupContent(
                kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(dict.fromkeys(parts))
            )
        )

    return server


def serve(workspace: Workspace) -> None:
    build(workspace).start_io()
