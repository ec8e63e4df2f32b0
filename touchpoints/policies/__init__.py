"""Human-touch policies: rule kinds, versioned policies, enforcement where touchpoints enter, evaluation.

Importing the package registers its checks with the journeys services, so every log and plan of a
touchpoint (page, API, chat button, job) is judged by the active policies. create_app imports it.
"""
from touchpoints.journeys.outcomes import register_log_check, register_mode_advice, register_plan_check
from touchpoints.policies.enforcement import advise_modes, check_log, check_plan

register_log_check(check_log)
register_plan_check(check_plan)
register_mode_advice(advise_modes)
