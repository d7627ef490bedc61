"""Subject and message templates of alert actions.

They render in a plain `jinja2.sandbox.SandboxedEnvironment` with autoescape, whose only context is the
record's readable fields (`doc.<field>`, or the bare field name). Not `frappe.render_template`: its context
exposes frappe.db.sql, get_all without permission checks, sendmail and enqueue. At save, a template is
parsed and refused unless every name, attribute, filter and test it uses is one of the record's fields or a
harmless filter: no calls, no imports, no attribute walks (`doc.__class__`)."""

from collections.abc import Iterable

import frappe
from frappe import _
from frappe.utils import flt, fmt_money, format_datetime, formatdate
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from opportunity_suite.services.alerts.errors import TemplateRefusedError
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
	nodes.Assign,
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


_environment: SandboxedEnvironment | None = None


def environment() -> SandboxedEnvironment:
	global _environment
	if _environment is None:
		env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
		env.filters = {name: f for name, f in env.filters.items() if name in SAFE_FILTERS}
		env.filters.update({"money": _money, "date": _date, "datetime": _datetime})
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

	def check(self, node: nodes.Node, local_names: frozenset = frozenset()):
		if not isinstance(node, SAFE_NODES):
			self.refuse(_("{0} is not allowed in a template.").format(type(node).__name__))
		if isinstance(node, nodes.For):
			self.check(node.iter, local_names)
			bound = local_names | self._stored_names(node.target) | {"loop"}
			for child in [*node.body, *node.else_]:
				self.check(child, bound)
			if node.test is not None:
				self.check(node.test, bound)
			return
		if isinstance(node, nodes.Assign):
			self.check(node.node, local_names)
			# names set with {% set %} are usable afterwards in the same scope
			self.names |= self._stored_names(node.target)
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
			self.check(child, local_names)

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
	try:
		tree = environment().parse(template)
	except TemplateSyntaxError as e:
		_refuse(template, _("syntax error on line {0}: {1}").format(e.lineno, e.message))
	fields, child_fields = template_fields(doctype)
	_Checker(template, fields, child_fields).check(tree)


# ---------------------------------------------------------------- rendering


def _plain(value):
	return "" if value is None else value


def record_context(doc) -> dict:
	"""The template context: the record's readable fields, and nothing else."""
	fields, _child = template_fields(doc.doctype)
	values = {}
	for name, field in fields.items():
		if field.kind == "table":
			rows = []
			if field.options:
				child = [f.fieldname for f in readable_fields(field.options)]
				for row in doc.get(name) or []:
					rows.append(RecordView({f: _plain(row.get(f)) for f in child}))
			values[name] = rows
		else:
			values[name] = _plain(doc.get(name))
	return {**values, "doc": RecordView(values)}


_compiled: dict[tuple, object] = {}


def render(template: str | None, context: dict, doctype: str | None = None) -> str:
	"""Render a template over a record context (values escaped: autoescape is on). With `doctype`, the
	template is checked again the first time this process renders it (a rule written past validation)."""
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
	return compiled.render(context)


def check_templates(templates: Iterable[str | None], doctype: str):
	for template in templates:
		check_template(template, doctype)
