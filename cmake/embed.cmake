# Embed data files into the library as C byte arrays.
#
# Every file in a folder's embed/ (e.g. store/embed/results_schema.sql) becomes
#   extern const unsigned char nm_embed_<name>[];   /* NUL-terminated */
#   extern const size_t nm_embed_<name>_len;        /* without the NUL */
# where <name> is the file name with every non-alphanumeric character as '_'
# (results_schema.sql -> nm_embed_results_schema_sql). Declare what you use in
# the module that uses it; the data is regenerated when the file changes.
set(NM_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_file.cmake)

function(nm_embed_sources target dir)
  file(GLOB files CONFIGURE_DEPENDS ${dir}/*)
  foreach(f ${files})
    get_filename_component(base ${f} NAME)
    string(MAKE_C_IDENTIFIER ${base} ident)
    set(out ${CMAKE_BINARY_DIR}/embed/${ident}.c)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -DIN=${f} -DOUT=${out} -DNAME=nm_embed_${ident} -P ${NM_EMBED_SCRIPT}
      DEPENDS ${f} ${NM_EMBED_SCRIPT}
      COMMENT "embed ${base}")
    target_sources(${target} PRIVATE ${out})
    set_source_files_properties(${out} PROPERTIES COMPILE_OPTIONS "-Wno-missing-variable-declarations")
  endforeach()
endfunction()
