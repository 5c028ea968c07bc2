"""Layer names and the attributes that hold the layers on a compiled module (no torch).

Any identifier is a layer name. Each layer is a submodule attribute of its model's module (a torch.fx
GraphModule, or the class a .py export writes), so a name that Python or torch keeps for itself gets
another attribute: a keyword (`class`: `self.class` is a syntax error), an attribute of a GraphModule
(`code`, `forward`, `training`, `state_dict`, ...: RESERVED_NAMES, generated from torch and checked
against the installed torch by tests/test_guarantees_inputs.py) or a name starting with `__` (mangled
inside a class body). The weights keep the layer's name: modelspec.torch_build maps the keys.

    layer_attributes(["dense", "code", "class"])   # {"dense": "dense", "code": "code_", "class": "class_"}
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable


def needs_attribute(name: str) -> bool:
    """Whether layer `name` cannot be the attribute `self.<name>` of a compiled module."""
    return keyword.iskeyword(name) or name in RESERVED_NAMES or name.startswith("__")


def layer_attributes(names: Iterable[str]) -> dict[str, str]:
    """The attribute holding each layer on its model's module, by layer name: the name itself, or for a name
    that `needs_attribute`, the name with underscores appended until no layer and no attribute has it."""
    names = list(names)
    taken = set(names)
    found = {}
    for name in names:
        attribute = name
        while needs_attribute(attribute) or attribute != name and attribute in taken:
            attribute = (attribute + "_") if not attribute.startswith("__") else f"layer{attribute}"
        taken.add(attribute)
        found[name] = attribute
    return found


RESERVED_NAMES = frozenset(
    ['T_destination',
    '__annotations__',
    '__call__',
    '__class__',
    '__copy__',
    '__deepcopy__',
    '__delattr__',
    '__dict__',
    '__dir__',
    '__doc__',
    '__eq__',
    '__format__',
    '__ge__',
    '__getattr__',
    '__getattribute__',
    '__getstate__',
    '__gt__',
    '__hash__',
    '__init__',
    '__init_subclass__',
    '__jit_unused_properties__',
    '__le__',
    '__lt__',
    '__module__',
    '__ne__',
    '__new__',
    '__reduce__',
    '__reduce_ex__',
    '__reduce_package__',
    '__repr__',
    '__setattr__',
    '__setstate__',
    '__sizeof__',
    '__str__',
    '__subclasshook__',
    '__weakref__',
    '_apply',
    '_backward_hooks',
    '_backward_pre_hooks',
    '_boxed_call',
    '_buffers',
    '_call_impl',
    '_code',
    '_compiled_call_impl',
    '_create_node_hooks',
    '_deepcopy_hooks',
    '_deepcopy_init',
    '_erase_node_hooks',
    '_forward_hooks',
    '_forward_hooks_always_called',
    '_forward_hooks_with_kwargs',
    '_forward_pre_hooks',
    '_forward_pre_hooks_with_kwargs',
    '_get_backward_hooks',
    '_get_backward_pre_hooks',
    '_get_name',
    '_graph',
    '_is_full_backward_hook',
    '_lineno_map',
    '_load_from_state_dict',
    '_load_state_dict_post_hooks',
    '_load_state_dict_pre_hooks',
    '_maybe_warn_non_full_backward_hook',
    '_modules',
    '_named_members',
    '_non_persistent_buffers_set',
    '_parameters',
    '_prologue_start',
    '_recompile_submodules',
    '_register_create_node_hook',
    '_register_deepcopy_hook',
    '_register_erase_node_hook',
    '_register_load_state_dict_pre_hook',
    '_register_replace_node_hook',
    '_register_state_dict_hook',
    '_replace_hooks',
    '_replicate_for_data_parallel',
    '_save_to_state_dict',
    '_set_replace_hook',
    '_slow_forward',
    '_state_dict_hooks',
    '_state_dict_pre_hooks',
    '_tracer_cls',
    '_tracer_extras',
    '_unregister_create_node_hook',
    '_unregister_deepcopy_hook',
    '_unregister_erase_node_hook',
    '_unregister_replace_node_hook',
    '_version',
    '_wrapped_call',
    '_wrapped_call_impl',
    'add_module',
    'add_submodule',
    'apply',
    'bfloat16',
    'buffers',
    'call_super_init',
    'children',
    'code',
    'compile',
    'cpu',
    'cuda',
    'delete_all_unused_submodules',
    'delete_submodule',
    'double',
    'dump_patches',
    'eval',
    'extra_repr',
    'float',
    'forward',
    'get_buffer',
    'get_extra_state',
    'get_parameter',
    'get_submodule',
    'graph',
    'half',
    'ipu',
    'load_state_dict',
    'meta',
    'modules',
    'mtia',
    'named_buffers',
    'named_children',
    'named_modules',
    'named_parameters',
    'parameters',
    'print_readable',
    'recompile',
    'register_backward_hook',
    'register_buffer',
    'register_forward_hook',
    'register_forward_pre_hook',
    'register_full_backward_hook',
    'register_full_backward_pre_hook',
    'register_load_state_dict_post_hook',
    'register_load_state_dict_pre_hook',
    'register_module',
    'register_parameter',
    'register_state_dict_post_hook',
    'register_state_dict_pre_hook',
    'requires_grad_',
    'set_extra_state',
    'set_submodule',
    'shape_env',
    'share_memory',
    'state_dict',
    'to',
    'to_empty',
    'to_folder',
    'train',
    'training',
    'type',
    'xpu',
    'zero_grad']
)
