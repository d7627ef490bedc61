"""Subject and message templates of alert actions.

They render in a plain `jinja2.sandbox.SandboxedEnvironment` with autoescape, whose only context is the
record's readable fields (`doc.<field>`, or the bare field name). Not `frappe.render_template`: its context
exposes frappe.db.sql, get_all without permission checks, sendmail and enqueue. At save, a template is
parsed and refused unless every name, attribute, filter and test it uses is one of the record's fields or a
harmless filter: no calls, no imports, no attribute walks (`doc.__class__`).

A template is also bounded, so that no rule can stall the process that renders it: at save, no `**`, no
`{% set %}` (a value fed back into itself doubles per line), loops only over a child table of the record or
a list written in the template, and not nested; when it renders (`BoundedEnvironment`), nothing is
evaluated at compile time (Jinja folds constants then: `{{ 9**(9**7) }}` took seconds before any render),
every operator, filter and `~` checks the size of what it would make before making it (`'x' * 10**8` is
refused, not built), and the render stops past MAX_OUTPUT characters or RENDER_SECONDS. Such a failure
raises TemplateBoundError, which fails the rule like any other error (and counts toward switching it off)."""

import contextvars
import re
import time
from collections.abc import Iterable

import frappe
from frappe import _
from frappe.utils import flt, fmt_money, format_datetime, formatdate
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes, pass_context
from jinja2.compiler import CodeGenerator
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import _PassArg

from opportunity_suite.services.alerts.errors import TemplateBoundError, TemplateRefusedError
from opportunity_suite.services.alerts.fields import FieldInfo, readable_fields

SAFE_FILTERS = frozenset(
	{
		"abs",
		"capitalize",
		"center",
		"count",
		"d",
		"default",
		"e",
		"escape",
		"first",
		"float",
		"format",
		"int",
		"join",
		"last",
		"length",
		"lower",
		"max",
		"min",
		"replace",
		"reverse",
		"round",
		"string",
		"striptags",
		"sum",
		"title",
		"trim",
		"truncate",
		"upper",
		"wordcount",
		# ours
		"money",
		"date",
		"datetime",
	}
)
SAFE_TESTS = frozenset(
	{
		"defined",
		"undefined",
		"none",
		"number",
		"string",
		"even",
		"odd",
		"divisibleby",
		"eq",
		"ne",
		"lt",
		"le",
		"gt",
		"ge",
		"in",
		"true",
		"false",
	}
)
MAX_TEMPLATE_LENGTH = 20_000  # characters of a template
MAX_SIZE = 200_000  # characters (or items) of any value a template makes, and of what it renders
RENDER_SECONDS = 2.0
MAX_INT_BITS = 256  # a product of whole numbers beyond this is refused (no `**`, but `a * a * a...`)
LOOP_ATTRIBUTES = frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length"})
# node types a template may contain; anything else (Call, Include, Import, Macro, With, FilterBlock...)
# is refused
SAFE_NODES = (
	nodes.Template,
	nodes.Output,
	nodes.TemplateData,
	nodes.Const,
	nodes.Name,
	nodes.Getattr,
	nodes.Getitem,
	nodes.Slice,
	nodes.Filter,
	nodes.Test,
	nodes.If,
	nodes.For,
	nodes.CondExpr,
	nodes.Compare,
	nodes.Operand,
	nodes.And,
	nodes.Or,
	nodes.Not,
	nodes.Neg,
	nodes.Pos,
	nodes.Add,
	nodes.Sub,
	nodes.Mul,
	nodes.Div,
	nodes.FloorDiv,
	nodes.Mod,
	nodes.Pow,
	nodes.Concat,
	nodes.List,
	nodes.Tuple,
	nodes.Keyword,
)


class RecordView:
	"""A record's fields for a template: item access only, no methods a template could reach
	(a dict would answer `doc.items` with dict.items)."""

	__slots__ = ("_values",)

	def __init__(self, values: dict):
		self._values = values

	def __getitem__(self, key):
		return self._values[key]

	def __contains__(self, key):
		return key in self._values

	def __str__(self):
		return str(self._values.get("name", ""))


def _money(value, currency: str | None = None):
	return fmt_money(flt(value), currency=currency or None)


def _date(value):
	return formatdate(value) if value else ""


def _datetime(value):
	return format_datetime(value) if value else ""


# ---------------------------------------------------------------- the bounded environment


class _Budget:
	"""The time left to one render; checked by every operator, filter, attribute and output."""

	__slots__ = ("deadline", "seconds")

	def __init__(self, seconds: float):
		self.seconds = seconds
		self.deadline = time.monotonic() + seconds

	def tick(self):
		if time.monotonic() > self.deadline:
			raise TemplateBoundError(
				_("The template took longer than {0} seconds to render.").format(self.seconds)
			)


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
	"alert_template_budget", default=None
)


def _tick():
	budget = _budget.get()
	if budget is not None:
		budget.tick()


def size_of(value, limit: int = MAX_SIZE) -> int:
	"""About how many characters `value` makes as text (lists counted through, shared parts as often as
	they occur); stops counting past `limit`, so it costs at most `limit` steps."""
	total, stack = 0, [value]
	while stack and total <= limit:
		item = stack.pop()
		if isinstance(item, str):
			total += len(item)
		elif isinstance(item, bool) or item is None:
			total += 5
		elif isinstance(item, int):
			total += item.bit_length() // 3 + 1
		elif isinstance(item, list | tuple):
			total += 2 + len(item)
			stack.extend(item)
		elif isinstance(item, RecordView):
			total += len(str(item))
		else:
			total += 32  # float, date, Decimal...
	return total


def _too_large():
	return TemplateBoundError(
		_("The template makes a value longer than {0} characters.").format(f"{MAX_SIZE:,}")
	)


def _check_size(*values):
	for value in values:
		if size_of(value) > MAX_SIZE:
			raise _too_large()


# %[(key)][flags][width][.precision][length]type: a width or precision makes text of that size
_FORMAT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?.")


def _check_format(template, values):
	"""`template % values` (the % operator and the `format` filter): widths and precisions add up to
	what the result can be; `*` (a width taken from the values) is refused."""
	if not isinstance(template, str):
		return
	widths = 0
	for match in _FORMAT_SPEC.finditer(template):
		for part in match.groups():
			if part == "*":
				raise TemplateBoundError(_("A * width in a format is not allowed in a template."))
			if part:
				widths += int(part) if len(part) < 10 else MAX_SIZE + 1
	if widths + size_of(template) + size_of(values) > MAX_SIZE:
		raise _too_large()


def _check_product(left, right):
	if isinstance(left, int) and isinstance(right, int):
		if left.bit_length() + right.bit_length() > MAX_INT_BITS:
			raise TemplateBoundError(_("The template makes a number too large."))
		return
	for sequence, times in ((left, right), (right, left)):
		if isinstance(sequence, str | list | tuple) and isinstance(times, int):
			if times > 0 and size_of(sequence) * times > MAX_SIZE:
				raise _too_large()


def _check_growth(name: str, value, args: tuple, kwargs: dict):
	"""What a filter would make, for the filters whose result can be much larger than their input."""
	if name == "center":
		width = args[0] if args else kwargs.get("width", 80)
		if isinstance(width, int) and width > MAX_SIZE:
			raise _too_large()
	elif name == "replace" and isinstance(value, str) and len(args) >= 2:
		old, new = str(args[0]), str(args[1])
		count = value.count(old) if old else len(value) + 1
		if len(value) + count * max(0, len(new) - len(old)) > MAX_SIZE:
			raise _too_large()
	elif name == "join":
		separator = args[0] if args else kwargs.get("d", "")
		items = list(value) if isinstance(value, str | list | tuple) else []
		if size_of(items) + size_of(separator) * max(0, len(items) - 1) > MAX_SIZE:
			raise _too_large()
	elif name == "format":
		_check_format(value, (args, kwargs))


def _bounded_filter(name: str, function):
	"""`function` as a filter that checks the time, its input's size, what it would make and what it made.
	It takes the context, so Jinja never calls it at compile time."""
	passes = _PassArg.from_obj(function)

	@pass_context
	def bounded(context, value, *args, **kwargs):
		_tick()
		_check_size(value, args, tuple(kwargs.values()))
		_check_growth(name, value, args, kwargs)
		if passes is _PassArg.context:
			result = function(context, value, *args, **kwargs)
		elif passes is _PassArg.eval_context:
			result = function(context.eval_ctx, value, *args, **kwargs)
		elif passes is _PassArg.environment:
			result = function(context.environment, value, *args, **kwargs)
		else:
			result = function(value, *args, **kwargs)
		_check_size(result)
		return result

	return bounded


@pass_context
def _finalize(context, value):
	"""Every `{{ ... }}` output: checked before it becomes text. Taking the context keeps Jinja from
	evaluating an output at compile time."""
	_tick()
	_check_size(value)
	return value


class _BoundedCodeGenerator(CodeGenerator):
	def visit_Concat(self, node: nodes.Concat, frame) -> None:
		"""`a ~ b ~ c` through `environment.bounded_concat`: sizes checked before the text is built."""
		self.write("environment.bounded_concat(context, (")
		for arg in node.nodes:
			self.visit(arg, frame)
			self.write(", ")
		self.write("))")


class BoundedEnvironment(SandboxedEnvironment):
	"""A sandbox whose every operator goes through `call_binop` (so none is folded at compile time either)
	and whose attribute and item lookups check the render's time."""

	intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
	code_generator_class = _BoundedCodeGenerator

	def call_binop(self, context, operator, left, right):
		_tick()
		if operator == "**":
			raise TemplateBoundError(_("** is not allowed in a template."))
		if operator == "*":
			_check_product(left, right)
		elif operator == "+" and isinstance(left, str | list | tuple):
			if size_of(left) + size_of(right) > MAX_SIZE:
				raise _too_large()
		elif operator == "%":
			_check_format(left, right)
		return super().call_binop(context, operator, left, right)

	def getattr(self, obj, attribute):
		_tick()
		return super().getattr(obj, attribute)

	def getitem(self, obj, argument):
		_tick()
		return super().getitem(obj, argument)

	def bounded_concat(self, context, values: tuple):
		_tick()
		if sum(size_of(value) for value in values) > MAX_SIZE:
			raise _too_large()
		return (markup_join if context.eval_ctx.autoescape else str_join)(values)


_environment: BoundedEnvironment | None = None


def environment() -> BoundedEnvironment:
	global _environment
	if _environment is None:
		env = BoundedEnvironment(
			autoescape=True, undefined=StrictUndefined, optimized=False, finalize=_finalize
		)
		filters = {name: f for name, f in env.filters.items() if name in SAFE_FILTERS}
		filters.update({"money": _money, "date": _date, "datetime": _datetime})
		env.filters = {name: _bounded_filter(name, f) for name, f in filters.items()}
		env.tests = {name: t for name, t in env.tests.items() if name in SAFE_TESTS}
		env.globals.clear()
		_environment = env
	return _environment


# ---------------------------------------------------------------- checking a template at save


def _refuse(template: str, reason: str):
	frappe.throw(
		_("The template {0} is refused: {1}").format(
			frappe.bold(frappe.utils.escape_html(template[:80])), reason
		),
		exc=TemplateRefusedError,
		title=_("Template Refused"),
	)


class _Checker:
	def __init__(self, template: str, fields: dict[str, FieldInfo], child_fields: set[str]):
		self.template = template
		self.fields = fields
		self.attributes = set(fields) | child_fields
		self.names = {"doc", *fields}

	def refuse(self, reason: str):
		_refuse(self.template, reason)

	def check(self, node: nodes.Node, local_names: frozenset = frozenset(), in_loop: bool = False):
		if isinstance(node, nodes.Assign | nodes.AssignBlock):
			self.refuse(_("{% set %} is not allowed in a template."))
		if isinstance(node, nodes.Pow):
			self.refuse(_("** is not allowed in a template."))
		if not isinstance(node, SAFE_NODES):
			self.refuse(_("{0} is not allowed in a template.").format(type(node).__name__))
		if isinstance(node, nodes.For):
			if in_loop:
				self.refuse(_("loops may not be nested."))
			if node.recursive:
				self.refuse(_("recursive loops are not allowed."))
			self._check_loop_iterable(node.iter, local_names)
			self.check(node.iter, local_names)
			bound = local_names | self._stored_names(node.target) | {"loop"}
			for child in [*node.body, *node.else_]:
				self.check(child, bound, in_loop=True)
			if node.test is not None:
				self.check(node.test, bound, in_loop=True)
			return
		if isinstance(node, nodes.Name):
			if node.ctx == "load" and node.name not in self.names and node.name not in local_names:
				self.refuse(_("{0} is not a field of the record.").format(frappe.bold(node.name)))
			return
		if isinstance(node, nodes.Getattr):
			self._check_attribute(node.attr)
		elif isinstance(node, nodes.Getitem):
			if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
				self._check_attribute(node.arg.value)
			elif not (
				isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, int)
			) and not isinstance(node.arg, nodes.Slice):
				self.refuse(_("only fixed field names or positions may be used in [ ]."))
		elif isinstance(node, nodes.Filter):
			if node.name not in SAFE_FILTERS:
				self.refuse(_("the filter {0} is not allowed.").format(frappe.bold(node.name)))
			if node.dyn_args is not None or node.dyn_kwargs is not None:
				self.refuse(_("* and ** arguments are not allowed."))
			self._check_keywords(node.kwargs)
		elif isinstance(node, nodes.Test):
			if node.name not in SAFE_TESTS:
				self.refuse(_("the test {0} is not allowed.").format(frappe.bold(node.name)))
			self._check_keywords(node.kwargs)
		for child in node.iter_child_nodes():
			self.check(child, local_names, in_loop)

	def _check_loop_iterable(self, iterable: nodes.Node, local_names: frozenset):
		"""A loop runs over a child table of the record or a list written in the template, nothing else
		(not over the characters of a text: a loop is as long as what it runs over)."""
		if isinstance(iterable, nodes.List | nodes.Tuple):
			return
		field = None
		if isinstance(iterable, nodes.Name) and iterable.name not in local_names:
			field = iterable.name
		elif (
			isinstance(iterable, nodes.Getattr)
			and isinstance(iterable.node, nodes.Name)
			and iterable.node.name == "doc"
		):
			field = iterable.attr
		elif (
			isinstance(iterable, nodes.Getitem)
			and isinstance(iterable.node, nodes.Name)
			and iterable.node.name == "doc"
			and isinstance(iterable.arg, nodes.Const)
		):
			field = iterable.arg.value
		info = self.fields.get(field) if isinstance(field, str) else None
		if info is None or info.kind != "table":
			self.refuse(
				_("a loop may only run over a table of the record or a list written in the template.")
			)

	def _check_keywords(self, keywords):
		for keyword in keywords:
			if keyword.key == "attribute" and isinstance(keyword.value, nodes.Const):
				self._check_attribute(str(keyword.value.value))

	def _check_attribute(self, attribute: str):
		if attribute.startswith("_") or attribute not in self.attributes | LOOP_ATTRIBUTES:
			self.refuse(_("{0} is not a field of the record.").format(frappe.bold(attribute)))

	@staticmethod
	def _stored_names(target: nodes.Node) -> frozenset:
		return frozenset(n.name for n in target.find_all(nodes.Name)) | (
			frozenset({target.name}) if isinstance(target, nodes.Name) else frozenset()
		)


def template_fields(doctype: str) -> tuple[dict[str, FieldInfo], set[str]]:
	"""(readable fields of the record, readable fields of its child tables)."""
	fields = {f.fieldname: f for f in readable_fields(doctype)}
	child_fields = set()
	for field in fields.values():
		if field.kind == "table" and field.options:
			child_fields |= {f.fieldname for f in readable_fields(field.options)}
	return fields, child_fields


def check_template(template: str | None, doctype: str):
	"""Raise TemplateRefusedError unless the template only reads the record's readable fields."""
	if not template:
		return
	if len(template) > MAX_TEMPLATE_LENGTH:
		_refuse(template, _("it is longer than {0} characters.").format(MAX_TEMPLATE_LENGTH))
	try:
		tree = environment().parse(template)
	except TemplateSyntaxError as e:
		_refuse(template, _("syntax error on line {0}: {1}").format(e.lineno, e.message))
	except (ValueError, RecursionError, MemoryError, OverflowError):
		# a number literal beyond Python's digit limit, brackets nested beyond the parser's depth...
		_refuse(template, _("it is not a template this system can read."))
	fields, child_fields = template_fields(doctype)
	_Checker(template, fields, child_fields).check(tree)


# ---------------------------------------------------------------- rendering


def _plain(value):
	return "" if value is None else value


def record_values(doc) -> dict:
	"""The record's readable fields as plain values (child rows as dicts): what a template may read, in a
	form a background job can take along."""
	fields, _child = template_fields(doc.doctype)
	values = {}
	for name, field in fields.items():
		if field.kind == "table":
			rows = []
			if field.options:
				child = [f.fieldname for f in readable_fields(field.options)]
				for row in doc.get(name) or []:
					rows.append({f: _plain(row.get(f)) for f in child})
			values[name] = rows
		else:
			values[name] = _plain(doc.get(name))
	return values


def context_from_values(values: dict) -> dict:
	"""The template context over `record_values`: each field by name and `doc.<field>`, nothing else."""
	values = {
		name: [RecordView(row) for row in value] if isinstance(value, list) else value
		for name, value in values.items()
	}
	return {**values, "doc": RecordView(values)}


def record_context(doc) -> dict:
	"""The template context: the record's readable fields, and nothing else."""
	return context_from_values(record_values(doc))


_compiled: dict[tuple, object] = {}


def render(
	template: str | None, context: dict, doctype: str | None = None, seconds: float = RENDER_SECONDS
) -> str:
	"""Render a template over a record context (values escaped: autoescape is on), within `seconds` and
	MAX_OUTPUT characters (TemplateBoundError beyond). With `doctype`, the template is checked again the
	first time this process renders it (a rule written past validation)."""
	if not template:
		return ""
	key = (template, doctype)
	compiled = _compiled.get(key)
	if compiled is None:
		if doctype:
			check_template(template, doctype)
		if len(_compiled) > 500:
			_compiled.clear()
		compiled = _compiled[key] = environment().from_string(template)
	token = _budget.set(_Budget(seconds))
	try:
		parts, size = [], 0
		for part in compiled.generate(context):
			size += len(part)
			if size > MAX_SIZE:
				raise TemplateBoundError(
					_("The template renders more than {0} characters.").format(f"{MAX_SIZE:,}")
				)
			_tick()
			parts.append(part)
		return "".join(parts)
	finally:
		_budget.reset(token)


def check_templates(templates: Iterable[str | None], doctype: str):
	for template in templates:
		check_template(template, doctype)
