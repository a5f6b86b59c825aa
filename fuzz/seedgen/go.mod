module kscope.dev/seedgen

go 1.19
