"""JSON renderer: money and probabilities are JSON numbers, as the API contract says."""

import json
from decimal import Decimal

from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder


class NumberEncoder(NinjaJSONEncoder):
    def default(self, o):
        if isinstance(o, Decimal):
            # max_digits is 14: a float keeps every cent of such amounts.
            return float(o)
        return super().default(o)


class LeadflowRenderer(JSONRenderer):
    encoder_class = NumberEncoder
    json_dumps_params = {"ensure_ascii": False}

    def render(self, request, data, *, response_status):
        return json.dumps(data, cls=self.encoder_class, **self.json_dumps_params)
