"""oslo.versionedobjects classes shared by the object interop peers (issue 15).

Serial namespace ``bar_object``, project namespace ``bar``. ``define(widget_version)``
registers the classes as a peer of that Widget version has them, so a test can run an
"older Python peer":

* ``Person`` 1.0: name, email (nullable).
* ``Widget`` 1.0: id, uuid, name, created_at, status (enum), address (IP, nullable),
  network (IP network, nullable), metadata (dict of strings), flags (set of strings),
  weight (float, nullable); 1.1 adds ``tags`` (list of strings); 1.2 adds ``owner``
  (a Person, nullable); 1.3 adds ``color`` (a string; newer than the Rust tests' Widget).
  ``obj_make_compatible`` drops them below their versions.
* ``Shelf`` 1.0: label, widgets (list of Widgets).
"""

from oslo_utils import versionutils
from oslo_versionedobjects import base
from oslo_versionedobjects import fields


class BarObject(base.VersionedObject):
    OBJ_SERIAL_NAMESPACE = 'bar_object'
    OBJ_PROJECT_NAMESPACE = 'bar'


class BarSerializer(base.VersionedObjectSerializer):
    OBJ_BASE_CLASS = BarObject


WIDGET_VERSIONS = ('1.0', '1.1', '1.2', '1.3')


def define(widget_version='1.2'):
    """Registers Person, Widget (at ``widget_version``) and Shelf; returns them."""
    assert widget_version in WIDGET_VERSIONS, widget_version
    level = versionutils.convert_version_to_tuple(widget_version)

    @base.VersionedObjectRegistry.register
    class Person(BarObject):
        VERSION = '1.0'
        fields = {
            'name': fields.StringField(),
            'email': fields.StringField(nullable=True),
        }

    widget_fields = {
        'id': fields.IntegerField(),
        'uuid': fields.UUIDField(),
        'name': fields.StringField(),
        'created_at': fields.DateTimeField(),
        'status': fields.EnumField(['active', 'deleted']),
        'address': fields.IPAddressField(nullable=True),
        'network': fields.IPNetworkField(nullable=True),
        'metadata': fields.DictOfStringsField(),
        'flags': fields.SetOfStringsField(),
        'weight': fields.FloatField(nullable=True),
    }
    if level >= (1, 1):
        widget_fields['tags'] = fields.ListOfStringsField()
    if level >= (1, 2):
        widget_fields['owner'] = fields.ObjectField('Person', nullable=True)
    if level >= (1, 3):
        widget_fields['color'] = fields.StringField()

    @base.VersionedObjectRegistry.register
    class Widget(BarObject):
        VERSION = widget_version
        fields = widget_fields
        # Without a manifest, oslo needs a rule for each child (ObjectActionError else).
        obj_relationships = {'owner': [('1.2', '1.0')]}

        def obj_make_compatible(self, primitive, target_version):
            super().obj_make_compatible(primitive, target_version)
            target = versionutils.convert_version_to_tuple(target_version)
            if target < (1, 3):
                primitive.pop('color', None)
            if target < (1, 2):
                primitive.pop('owner', None)
            if target < (1, 1):
                primitive.pop('tags', None)

    @base.VersionedObjectRegistry.register
    class Shelf(BarObject):
        VERSION = '1.0'
        fields = {
            'label': fields.StringField(),
            'widgets': fields.ListOfObjectsField('Widget'),
        }

    return Person, Widget, Shelf


def describe(obj):
    """What Python sees of an object: class version, set fields with their primitive
    values, changes; children described the same way."""
    if obj is None:
        return None
    if isinstance(obj, list):
        return [describe(item) for item in obj]
    out = {
        'object': obj.obj_name(),
        'version': obj.VERSION,
        'changes': sorted(obj.obj_what_changed()),
        'fields': {},
    }
    for name, field in obj.fields.items():
        if not obj.obj_attr_is_set(name):
            continue
        value = getattr(obj, name)
        if isinstance(value, base.VersionedObject) or (
                isinstance(value, list) and value
                and isinstance(value[0], base.VersionedObject)):
            out['fields'][name] = describe(value)
        elif name == 'created_at':
            out['fields'][name] = value.isoformat()
        elif name == 'flags':
            out['fields'][name] = sorted(value)
        else:
            out['fields'][name] = field.to_primitive(obj, name, value)
    return out


def new_widget(Widget, Person, id=9, tz='+05:30', with_owner=True):
    """The widget of the Rust tests' ``bar::widget()``, for whichever Widget version is
    registered (fields the version lacks are left out). ``tz='unnamed'`` uses a
    ``datetime.timezone`` without a name, which oslo writes as ``UTC-03:00``."""
    import datetime
    import iso8601
    if tz == 'unnamed':
        created = datetime.datetime(
            2026, 12, 6, 15, 0, 0,
            tzinfo=datetime.timezone(datetime.timedelta(hours=-3)))
    else:
        created = iso8601.parse_date('2026-12-06T15:00:00' + tz)
    values = dict(
        id=id, uuid='8f3c8e0e-3c1a-4c8e-9d5e-2f1b7a6c4d3e', name='y\u00e9',
        created_at=created, status='active', address='2001:db8::1',
        network='10.1.2.3/8', metadata={'k': 'v'}, flags={'b'}, weight=1.5)
    if 'tags' in Widget.fields:
        values['tags'] = ['a', '\u00e9']
    if 'owner' in Widget.fields and with_owner:
        values['owner'] = Person(name='p', email=None)
    if 'color' in Widget.fields:
        values['color'] = 'red'
    return Widget(**values)
