"""Cases over REST (FAB's OpenAPI): reads under the unit scope, plus the commands of the guided
steps — create, import/export, save and complete a module, sign, submit, return for correction."""
from __future__ import annotations

from flask import g, request
from flask_appbuilder import expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import protect

from app.extensions import db
from app.models import MODULE_MODELS, Batch, Case, Signature, Submission
from app.record import custom_items
from app.record.data import export_case, from_exchange
from app.record.input_checks import TEXT_MAX, text_problem
from app.record.lock import StaleWrite, module_snapshot, parse_version, version_of
from app.scoping import current_scope
from app.spec import MODULE_KEYS, module
from app.views.base import ReadOnlyModelRestApi
from app.workflow import cases as case_service
from app.workflow import submission as case_workflow
from app.workflow.exchange import ImportFailed, export_content, import_cases


def _workflow():
    return case_workflow


# ---- REST --------------------------------------------------------------------------------------

def _body() -> dict:
    """The JSON object of a command (anything else: no arguments, which the command refuses)."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _text(body: dict, key: str) -> str:
    value = body.get(key)
    return value if isinstance(value, str) else ""


CASE_API_COLUMNS = ["id", "case_no", "version_no", "root_id", "previous_id", "is_current", "status",
                    "full_name", "unit_id", "batch_id", "created_at"]


class CaseApi(ReadOnlyModelRestApi):
    """Cases over REST: read (scoped), plus the commands of the guided steps."""

    resource_name = "case"
    datamodel = SQLAInterface(Case)
    list_columns = CASE_API_COLUMNS
    show_columns = CASE_API_COLUMNS
    search_columns = ["case_no", "status", "is_current", "full_name"]
    include_route_methods = {"get", "get_list", "info", "export", "import_cases", "create_case", "get_module",
                             "put_module", "complete", "sign_case", "submit_case", "return_case"}
    base_permissions = ["can_get", "can_info", "can_create", "can_enter", "can_sign", "can_submit",
                        "can_review", "can_export"]
    method_permission_name = {"export": "export", "get_module": "get", "import_cases": "create", "create_case": "create",
                              "put_module": "enter", "complete": "enter", "sign_case": "sign",
                              "submit_case": "submit", "return_case": "review"}

    def _case(self, pk):
        return self.datamodel.get(pk, self._base_filters)

    def _problems(self, exc, status=400):
        return self.response(status, message="；".join(p.message for p in exc.problems),
                             problems=[p.as_dict() for p in exc.problems])

    def _command(self, pk, run, key_ok: bool = True):
        """Load the case through the scope (404 otherwise), run one command, answer 200 with what
        ``run`` returns or 400 with every problem (nothing written)."""
        case = self._case(pk)
        if case is None or not key_ok:
            return self.response_404()
        try:
            return self.response(200, **run(case))
        except case_service.CaseError as exc:
            db.session.rollback()
            return self._problems(exc)

    @expose("/<int:pk>/export", methods=["GET"])
    @protect()
    def export(self, pk):
        """Export one case in the exchange format (``?content_only=1``: without the system records).
        ---
        get:
          parameters:
          - in: path
            name: pk
            schema: {type: integer}
          - {in: query, name: content_only, schema: {type: string}, required: false}
          responses:
            200: {description: The case, keyed by module and item}
            404: {$ref: '#/components/responses/404'}
        """
        case = self._case(pk)
        if case is None:
            return self.response_404()
        content_only = request.args.get("content_only", "") in ("1", "true")
        return self.response(200, **{"result": export_content(case) if content_only else export_case(case)})

    @expose("/import", methods=["POST"])
    @protect()
    def import_cases(self):
        """Import one case or a list (exchange format); all or nothing.
        ---
        post:
          requestBody:
            content:
              application/json: {schema: {type: object}}
          responses:
            201: {description: Created case ids}
            400: {description: Every problem with its case, module and key}
        """
        if not request.is_json:
            return self.response_400(message="请求体应为 JSON")
        try:
            created = import_cases(request.get_json(), current_scope(), g.user)
        except ImportFailed as exc:
            return self.response(400, message=f"导入失败：{len(exc.problems)} 处问题，未写入任何数据",
                                 problems=exc.problems)
        return self.response(201, created=created)

    @expose("/create", methods=["POST"])
    @protect()
    def create_case(self):
        """Create an empty case for the user's own unit.
        ---
        post:
          responses:
            201: {description: The new case id and number}
        """
        unit = getattr(g.user, "unit", None)
        if unit is None:
            return self.response_400(message="当前用户未归属任何单位，不能新建案例")
        case = case_service.create_case(unit, g.user)
        return self.response(201, id=case.id, case_no=case.case_no)

    @expose("/<int:pk>/module/<key>", methods=["GET"])
    @protect()
    def get_module(self, pk, key):
        """One module's values (exchange format) with its version (also the ETag header): send it
        back as ``If-Match`` or ``version`` when saving.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: key, schema: {type: string}}
          responses:
            200: {description: Values, handler, leader, state and version}
            404: {$ref: '#/components/responses/404'}
        """
        case = self._case(pk)
        if case is None or key not in MODULE_KEYS:
            return self.response_404()
        snap = module_snapshot(case, key)
        version = version_of(snap)
        resp = self.response(200, result={k: v for k, v in snap["values"].items() if v not in (None, "", [], {})},
                             handler=snap["handler"], leader=snap["leader"], state=snap["state"], version=version)
        resp.headers["ETag"] = f'"{version}"'
        return resp

    @expose("/<int:pk>/module/<key>", methods=["PUT"])
    @protect()
    def put_module(self, pk, key):
        """Save one module: a JSON object keyed by item (exchange format), plus handler/leader and
        optionally the version it is based on (``version`` key or ``If-Match`` header).
        ---
        put:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - in: path
            name: key
            schema:
              type: string
              enum: [qualification, motion, nomination, recommendation, inspection, consultation,
                     decision, publicity, appointment, signature, submission]
          - {in: header, name: If-Match, schema: {type: string}, required: false}
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    handler: {type: string, maxLength: 30}
                    leader: {type: string, maxLength: 30}
                    version: {type: string, description: 所依据的模块版本（也可用 If-Match 请求头）}
                  additionalProperties: true
          responses:
            200: {description: Saved; state, missing items and the new version}
            400: {description: Every problem, item by item}
            409: {description: 已被他人修改 — the differences and the current version; nothing written}
        """
        case = self._case(pk)
        if case is None or key not in MODULE_KEYS:
            return self.response_404()
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response_400(message="请求体应为 JSON 对象")
        handler, leader = body.pop("handler", None), body.pop("leader", None)
        version = parse_version(body.pop("version", None)) or parse_version(request.headers.get("If-Match"))
        values, problems = from_exchange({key: body}, custom_items.specs_for(case))
        if problems:
            return self._problems(case_service.CaseError(problems))
        given = {k: v for k, v in values[key].items() if k in body}
        try:
            result = case_service.save_module(case, key, given, handler=handler, leader=leader, version=version)
        except StaleWrite as exc:
            db.session.rollback()
            return self.response(409, message=exc.problems[0].message, problems=[p.as_dict() for p in exc.problems],
                                 diff=exc.diff, version=exc.version)
        except case_service.CaseError as exc:
            db.session.rollback()
            return self._problems(exc)
        resp = self.response(200, state=result.state, missing=[p.as_dict() for p in result.missing],
                             version=result.version)
        resp.headers["ETag"] = f'"{result.version}"'
        return resp

    @expose("/<int:pk>/module/<key>/complete", methods=["POST"])
    @protect()
    def complete(self, pk, key):
        """Mark one module complete (predecessors first).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - in: path
            name: key
            schema:
              type: string
              enum: [qualification, motion, nomination, recommendation, inspection, consultation,
                     decision, publicity, appointment, signature, submission]
          responses:
            200: {description: Completed}
            400: {description: What is missing or wrong}
        """
        def run(case):
            case_service.complete_module(case, key)
            return {"state": "已完成"}

        return self._command(pk, run, key in MODULE_KEYS)

    @expose("/<int:pk>/sign", methods=["POST"])
    @protect()
    def sign_case(self, pk):
        """Sign at a level: {"level": 1|2|3, "post": "...", "opinion": "情况属实同意报送"}.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    level: {type: integer, enum: [1, 2, 3]}
                    post: {type: string, maxLength: 100}
                    opinion: {type: string}
          responses:
            200: {description: Signed}
            400: {description: Refused, with the reasons}
        """
        body = _body()
        level = body.get("level")
        level = level if isinstance(level, int) and not isinstance(level, bool) else 0  # refused as a level

        def run(case):
            sig = _workflow().sign(case, g.user, level, _text(body, "post"), _text(body, "opinion"))
            return {"id": sig.id, "snapshot_sha256": sig.snapshot_sha256}

        return self._command(pk, run)

    @expose("/<int:pk>/submit/<int:node>", methods=["POST"])
    @protect()
    def submit_case(self, pk, node):
        """初次提交 (node 1) or 二次提交 (node 2). Body {"pledge": true} records the pledge first.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: node, schema: {type: integer, enum: [1, 2]}}
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    pledge: {type: boolean}
          responses:
            200: {description: Submitted, with the snapshot hash}
            400: {description: Refused, with the reasons}
        """
        body = _body()

        def run(case):
            if body.get("pledge") is True:
                _workflow().set_pledge(case, g.user, True)
            sub = _workflow().submit(case, g.user, node)
            return {"id": sub.id, "sha256": sub.sha256, "prev_sha256": sub.prev_sha256}

        return self._command(pk, run)

    @expose("/<int:pk>/return", methods=["POST"])
    @protect()
    def return_case(self, pk):
        """退回补正 by the supervising department: {"reason": "..."}; returns the new version.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    reason: {type: string}
                  required: [reason]
          responses:
            200: {description: The new version's id}
            400: {description: Refused}
        """
        if self._case(pk) is None:
            return self.response_404()
        reason = _text(_body(), "reason").strip()
        if not reason:
            return self.response_400(message="请填写退回补正的原因")
        problem = text_problem("退回原因", reason, TEXT_MAX)
        if problem:
            return self.response_400(message=problem)

        def run(case):
            new = _workflow().return_for_correction(case, g.user, reason)
            return {"id": new.id, "version_no": new.version_no}

        return self._command(pk, run)


class BatchApi(ReadOnlyModelRestApi):
    resource_name = "batch"
    datamodel = SQLAInterface(Batch)
    list_columns = ["id", "title", "unit_id", "decision_date", "decision_meeting_type", "members_total",
                    "members_present", "absent_opinion_collected", "vote_method", "main_leader_last"]
    show_columns = list_columns
    search_columns = ["title", "decision_date"]


class SignatureApi(ReadOnlyModelRestApi):
    resource_name = "signature"
    datamodel = SQLAInterface(Signature)
    list_columns = ["id", "case_id", "unit_id", "level", "signer_id", "signer_name", "post", "opinion",
                    "signed_at", "snapshot_sha256", "record_sha256", "voided_at", "void_reason"]
    show_columns = list_columns
    search_columns = ["case_id", "level"]


class SubmissionApi(ReadOnlyModelRestApi):
    resource_name = "submission"
    datamodel = SQLAInterface(Submission)
    list_columns = ["id", "case_id", "root_id", "unit_id", "node", "submitted_at", "submitted_by_name",
                    "sha256", "content_sha256", "prev_sha256"]
    show_columns = list_columns + ["snapshot"]
    search_columns = ["case_id", "node"]


def _module_api(key: str):
    model = MODULE_MODELS[key]
    columns = [c.key for c in model.__table__.columns]
    return type(f"Case{model.__name__[4:]}Api", (ReadOnlyModelRestApi,), {
        "resource_name": f"case_{key}", "datamodel": SQLAInterface(model),
        "list_columns": columns, "show_columns": columns, "search_columns": ["case_id", "state"],
        "__doc__": f"模块“{module(key).name}”的数据（只读；写入请用 PUT /api/v1/case/<id>/module/{key}）",
    })


MODULE_APIS = [_module_api(k) for k in MODULE_KEYS]
