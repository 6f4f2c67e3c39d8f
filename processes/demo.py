"""The demo processes (processes/demo.py), with realistic golden response times. Idempotent."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from departments.models import Department
from processes.models import Priority, ServiceProcess, Stage, StageTarget, Transition

M, H = 1, 60  # minutes
# Targets (response, resolution) in business minutes by priority: urgent, high, normal, low.
CALL_CENTER_INTAKE = [(5 * M, 30 * M), (10 * M, 60 * M), (15 * M, 2 * H), (30 * M, 4 * H)]
CALL_BACK = [(15 * M, 1 * H), (30 * M, 2 * H), (1 * H, 4 * H), (2 * H, 8 * H)]
INVESTIGATION = [(1 * H, 7 * H), (2 * H, 14 * H), (4 * H, 21 * H), (7 * H, 35 * H)]
REVIEW = [(2 * H, 7 * H), (4 * H, 14 * H), (4 * H, 14 * H), (7 * H, 21 * H)]
IT_TRIAGE = [(15 * M, 4 * H), (30 * M, 7 * H), (2 * H, 14 * H), (4 * H, 28 * H)]
PRIORITIES = [Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW]

# code: (name, English, category, prefix, regulatory days, stages, routes)
# stage: (code, name, English, department, targets, initial, final, can resolve)
PROCESSES = {
    "COMPLAINT": (
        "客户投诉处理",
        "Customer complaint",
        ServiceProcess.Category.COMPLAINT,
        "CMP",
        15,
        [
            ("INTAKE", "客服受理", "Intake", "CALL_CENTER", CALL_CENTER_INTAKE, True, False, True),
            (
                "INVESTIGATE_CARD",
                "信用卡中心调查",
                "Card center investigation",
                "CARD_CENTER",
                INVESTIGATION,
                False,
                False,
                True,
            ),
            (
                "INVESTIGATE_LENDING",
                "个贷调查",
                "Lending investigation",
                "RETAIL_LENDING",
                INVESTIGATION,
                False,
                False,
                True,
            ),
            (
                "INVESTIGATE_BRANCH",
                "网点调查",
                "Branch investigation",
                "BRANCH",
                INVESTIGATION,
                False,
                False,
                True,
            ),
            ("RISK_REVIEW", "风险复核", "Risk review", "RISK", REVIEW, False, False, False),
            ("COMPLIANCE_REVIEW", "合规复核", "Compliance review", "COMPLIANCE", REVIEW, False, False, False),
            ("CALL_BACK", "回访结案", "Call-back and closure", "CALL_CENTER", CALL_BACK, False, True, False),
        ],
        [
            ("INTAKE", ["INVESTIGATE_CARD", "INVESTIGATE_LENDING", "INVESTIGATE_BRANCH"], False),
            (
                "INVESTIGATE_CARD",
                [
                    "RISK_REVIEW",
                    "COMPLIANCE_REVIEW",
                    "CALL_BACK",
                    "INVESTIGATE_LENDING",
                    "INVESTIGATE_BRANCH",
                ],
                False,
            ),
            (
                "INVESTIGATE_LENDING",
                ["RISK_REVIEW", "COMPLIANCE_REVIEW", "CALL_BACK", "INVESTIGATE_CARD", "INVESTIGATE_BRANCH"],
                False,
            ),
            (
                "INVESTIGATE_BRANCH",
                ["RISK_REVIEW", "COMPLIANCE_REVIEW", "CALL_BACK", "INVESTIGATE_CARD", "INVESTIGATE_LENDING"],
                False,
            ),
            ("RISK_REVIEW", ["INVESTIGATE_CARD", "INVESTIGATE_LENDING", "INVESTIGATE_BRANCH"], True),
            ("COMPLIANCE_REVIEW", ["INVESTIGATE_CARD", "INVESTIGATE_LENDING", "INVESTIGATE_BRANCH"], True),
        ],
    ),
    "CARD_DISPUTE": (
        "信用卡争议交易",
        "Card dispute",
        ServiceProcess.Category.CARD_DISPUTE,
        "DSP",
        None,
        [
            ("INTAKE", "客服受理", "Intake", "CALL_CENTER", CALL_CENTER_INTAKE, True, False, False),
            ("CARD_REVIEW", "争议审核", "Dispute review", "CARD_CENTER", INVESTIGATION, False, False, True),
            ("RISK_REVIEW", "欺诈风险复核", "Fraud risk review", "RISK", REVIEW, False, False, False),
            ("CALL_BACK", "回访结案", "Call-back and closure", "CALL_CENTER", CALL_BACK, False, True, False),
        ],
        [
            ("INTAKE", ["CARD_REVIEW"], False),
            ("CARD_REVIEW", ["RISK_REVIEW", "CALL_BACK"], False),
            ("RISK_REVIEW", ["CARD_REVIEW"], True),
        ],
    ),
    "APP_INCIDENT": (
        "手机银行故障",
        "Mobile banking incident",
        ServiceProcess.Category.DIGITAL_INCIDENT,
        "INC",
        None,
        [
            ("INTAKE", "客服受理", "Intake", "CALL_CENTER", CALL_CENTER_INTAKE, True, False, True),
            ("IT_TRIAGE", "信息科技排查", "IT triage", "IT", IT_TRIAGE, False, False, True),
            ("CALL_BACK", "回访结案", "Call-back and closure", "CALL_CENTER", CALL_BACK, False, True, False),
        ],
        [("INTAKE", ["IT_TRIAGE"], False), ("IT_TRIAGE", ["CALL_BACK"], False)],
    ),
    "REGULATOR_COMPLAINT": (
        "监管转办投诉",
        "Regulator-forwarded complaint",
        ServiceProcess.Category.REGULATOR_COMPLAINT,
        "REG",
        15,
        [
            ("INTAKE", "合规登记", "Compliance registration", "COMPLIANCE", REVIEW, True, False, False),
            (
                "INVESTIGATE_CARD",
                "信用卡中心调查",
                "Card center investigation",
                "CARD_CENTER",
                INVESTIGATION,
                False,
                False,
                True,
            ),
            (
                "INVESTIGATE_LENDING",
                "个贷调查",
                "Lending investigation",
                "RETAIL_LENDING",
                INVESTIGATION,
                False,
                False,
                True,
            ),
            (
                "INVESTIGATE_BRANCH",
                "网点调查",
                "Branch investigation",
                "BRANCH",
                INVESTIGATION,
                False,
                False,
                True,
            ),
            ("CALL_BACK", "回访结案", "Call-back and closure", "CALL_CENTER", CALL_BACK, False, True, False),
        ],
        [
            ("INTAKE", ["INVESTIGATE_CARD", "INVESTIGATE_LENDING", "INVESTIGATE_BRANCH"], False),
            ("INVESTIGATE_CARD", ["CALL_BACK", "INTAKE"], False),
            ("INVESTIGATE_LENDING", ["CALL_BACK", "INTAKE"], False),
            ("INVESTIGATE_BRANCH", ["CALL_BACK", "INTAKE"], False),
        ],
    ),
}


@transaction.atomic
def seed_processes(*, stdout=None) -> dict[str, ServiceProcess]:
    departments = {d.code: d for d in Department.objects.all()}
    result = {}
    for order_code, (name, name_en, category, prefix, regulatory, stages, routes) in PROCESSES.items():
        process, created = ServiceProcess.objects.get_or_create(
            code=order_code,
            defaults={
                "name": name,
                "name_en": name_en,
                "category": category,
                "reference_prefix": prefix,
                "regulatory_days": regulatory,
                "second_extension_approver": departments["COMPLIANCE"],
                "compensation_threshold": Decimal("500.00"),
                "compensation_approver": departments["COMPLIANCE"],
            },
        )
        result[order_code] = process
        if not created:
            continue
        by_code = {}
        for order, (code, sname, sname_en, dept, targets, initial, final, resolves) in enumerate(stages):
            stage = Stage.objects.create(
                process=process,
                code=code,
                name=sname,
                name_en=sname_en,
                department=departments[dept],
                order=order,
                is_initial=initial,
                is_final=final,
                can_resolve=resolves,
            )
            StageTarget.objects.bulk_create(
                StageTarget(stage=stage, priority=p, response_minutes=r, resolution_minutes=s)
                for p, (r, s) in zip(PRIORITIES, targets, strict=True)
            )
            by_code[code] = stage
        for source, targets, is_return in routes:
            Transition.objects.bulk_create(
                Transition(
                    process=process, from_stage=by_code[source], to_stage=by_code[t], is_return=is_return
                )
                for t in targets
            )
    if stdout is not None:
        stdout.write(f"  processes: {', '.join(result)}")
    return result
